"""What the preloaded runner's server does once, before it forks a process per script.

torch and matplotlib load some of their parts on first use, and in a fresh process each
script paid for that again: the first ``torch.testing.assert_close`` imports
``torch.distributed.tensor`` (and sympy with it), the first optimizer imports the
compiler's front end, and the first figure drawn loads matplotlib's fonts; together
0.5-1.5 s of a run that is often shorter. Calling those public functions once here,
in the server (``autograd_site.preloaded``), makes every forked script start with them
loaded. Nothing here leaves state a script could see: no random number is drawn, and
the figure is closed (so the scripts' figures are numbered from 1 as in a fresh
process).
"""

import matplotlib.pyplot as plt
import torch

torch.testing.assert_close(torch.zeros(1), torch.zeros(1))
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
figure, axes = plt.subplots()
axes.set_title("warm-up: $x^2$")
figure.tight_layout()
figure.canvas.draw()
plt.close(figure)
