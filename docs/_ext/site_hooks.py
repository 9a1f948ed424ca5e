"""Build hooks for the site: a clean torch state before each gallery example."""


def reset_torch(gallery_conf, fname):
    """Put torch's global switches back to their defaults before an example runs."""
    import torch

    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    torch.autograd.set_detect_anomaly(False)
    torch.manual_seed(0)


def setup(app):
    """Register nothing yet; the module is imported for :func:`reset_torch`."""
    return {"parallel_read_safe": True, "parallel_write_safe": True}
