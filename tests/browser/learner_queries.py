"""What learners type into the site's search, and the pages that answer them.

Each query is written from a real question that a learner asked (the PyTorch forums,
Stack Overflow or a copy of it, GitHub issues); ``source`` is where it was asked. The
phrasing is the learner's, not the site's: pasted error messages, and words such as
"modify", "save" or "GPU" that the answering page may not use.

``answers``: the pages that answer the question; the search must put one of them in its
first three results (tests/browser/test_search_learners.py), and most queries first.
``pending``: the answering page is being written on another branch; the query is skipped
until it is merged. To enable it, set ``answers`` to that page and remove ``pending``.

To add a query: find the question (an issue, a forum thread), copy the learner's words,
name the page that answers it, and run ``make test-browser`` (or only
``tests/browser/test_search_learners.py``).
"""

from __future__ import annotations

from dataclasses import dataclass


def gallery(stem: str) -> str:
    """The built page of a gallery example, e.g. gallery("basics/plot_04_leaf_tensors")."""
    return f"auto_examples/{stem}.html"


def page(name: str) -> str:
    """The built page of a docs/ page, e.g. page("howto/common_errors")."""
    return f"{name}.html"


@dataclass(frozen=True)
class LearnerQuery:
    query: str
    answers: tuple[str, ...]
    source: str
    pending: str = ""


COMMON_ERRORS = page("howto/common_errors")
# Pages that link to many answers; they must not rank above the page that answers.
HUB_PAGES = (page("explanation/confusions"), page("explanation/glossary"))

LEARNER_QUERIES = (
    LearnerQuery(
        "element 0 of tensors does not require grad and does not have a grad_fn",
        (COMMON_ERRORS,),
        "https://discuss.pytorch.org/t/gradient-is-lost-when-use-torch-tensor-t1-t2/23261"),
    LearnerQuery(
        "why do we need to call zero_grad",
        (gallery("basics/plot_02_gradient_accumulation"),
         gallery("training/plot_11_training_step")),
        # Stack Overflow question 48001598, as copied by this site
        "https://python-decompiler.com/article/2017-12/why-do-we-need-to-call-zero-grad-in-pytorch"),
    LearnerQuery(
        "trying to backward through the graph a second time",
        (COMMON_ERRORS, gallery("training/plot_11_training_step")),
        "https://discuss.pytorch.org/t/runtimeerror-trying-to-backward-through-the-graph-a-second-time-but-the-buffers-have-already-been-freed-specify-retain-graph-true-when-calling-backward-the-first-time/6795"),
    LearnerQuery(
        "torch.where nan gradient",
        (gallery("basics/plot_19_nondifferentiable_points"),),
        "https://github.com/pytorch/pytorch/issues/68425"),
    LearnerQuery(
        "second derivative of network output with respect to input",
        (gallery("basics/plot_05_higher_order_derivatives"), gallery("pinns/plot_17_pinn_ode"),
         gallery("vectors/plot_07_pointwise_derivatives")),
        "https://discuss.pytorch.org/t/derivative-of-models-output-with-respect-to-its-input/90767"),
    LearnerQuery(
        "per-sample gradients",
        (gallery("training/plot_13_per_sample_gradients"),),
        "https://discuss.pytorch.org/t/per-sample-gradient-should-we-design-each-layer-differently/57293"),
    LearnerQuery(
        "can't call numpy() on tensor that requires grad",
        (gallery("tracking/plot_09_detach_and_numpy"), COMMON_ERRORS),
        "https://androidkt.com/fix-cant-call-numpy-on-tensor-that-requires-grad-use-tensor-detach-numpy-instead/"),
    LearnerQuery(
        "grad can be implicitly created only for scalar outputs",
        (COMMON_ERRORS, gallery("vectors/plot_06_vector_jacobian_product")),
        "https://stackoverflow.com/questions/54754153/autograd-grad-for-tensor-in-pytorch"),
    LearnerQuery(
        "variable needed for gradient computation has been modified by an inplace operation",
        (COMMON_ERRORS, gallery("tracking/plot_20_saved_tensors_and_memory")),
        "https://github.com/pytorch/pytorch/issues/96265"),
    LearnerQuery(
        "gradient of relu at 0",
        (gallery("basics/plot_19_nondifferentiable_points"),),
        "https://github.com/lucidrains/deep-cross-attention/issues/2"),
    LearnerQuery(
        "only tensors of floating point dtype can require gradients",
        (gallery("tracking/plot_25_more_common_errors"),),
        "https://github.com/pytorch/pytorch/issues/53466"),
    LearnerQuery(
        "save the gradient of an intermediate tensor",
        (gallery("basics/plot_04_leaf_tensors"), gallery("training/plot_12_gradient_hooks")),
        "https://discuss.pytorch.org/t/save-the-gradient-of-the-intermediate-tensor/190094"),
    LearnerQuery(
        "difference between no_grad and inference_mode",
        (gallery("tracking/plot_10_no_grad_and_inference_mode"),),
        # Stack Overflow question 74191070, as archived by this mirror
        "https://kiwix.lema.org/stackoverflow.com_en_all_2023-11/questions/74191070/why-there-are-two-different-flags-to-disable-gradient-computation-in-pytorch"),
    LearnerQuery(
        "modify the gradient with register_hook",
        (gallery("training/plot_12_gradient_hooks"),),
        "https://github.com/pytorch/pytorch/issues/2843"),
    LearnerQuery(
        "scale the gradient of an intermediate tensor",
        (gallery("training/plot_12_gradient_hooks"),),
        "https://github.com/dotnet/TorchSharp/issues/1483"),
    LearnerQuery(
        "clip gradient norm",
        (gallery("training/plot_12b_gradient_clipping"),),
        "https://discuss.pytorch.org/t/clip-gradient-norm-from-chatbot-tutorial/35106"),
    LearnerQuery(
        "batch jacobian",
        (gallery("jacobians/plot_14_jacobians_and_hessians"),
         gallery("vectors/plot_07_pointwise_derivatives")),
        "https://github.com/pytorch/pytorch/issues/23475"),
    LearnerQuery(
        "detach hidden state rnn",
        (gallery("tracking/plot_25_more_common_errors"),),
        "https://taourl.com/read-3500742.html"),
    LearnerQuery(
        "gradient with complex numbers conjugate",
        (gallery("jacobians/plot_23_complex_autograd"),),
        "https://github.com/pytorch/pytorch/issues/41857"),
    LearnerQuery(
        "gradcheck fails with float32",
        (page("howto/check_gradients"), gallery("extending/plot_16_custom_autograd_function")),
        "https://github.com/pytorch/pytorch/issues/5351"),
    LearnerQuery(
        "does DistributedDataParallel average the gradients",
        (gallery("training/plot_26_distributed_data_parallel"),),
        "https://github.com/pytorch/examples/issues/374"),
    LearnerQuery(
        "leaf variable was used in an inplace operation",
        (COMMON_ERRORS, gallery("tracking/plot_20_saved_tensors_and_memory")),
        "https://discuss.pytorch.org/t/leaf-variable-was-used-in-an-inplace-operation/308"),
    LearnerQuery(
        "backprop through argmax",
        (gallery("tracking/plot_25_more_common_errors"),),
        # Stack Overflow "How does pytorch backprop through argmax?", as copied by this site
        "https://newbedev.com/how-does-pytorch-backprop-through-argmax"),
    LearnerQuery(
        "what are the gradient arguments of backward",
        (gallery("vectors/plot_06_vector_jacobian_product"), page("explanation/confusions")),
        "https://stackoverflow.com/questions/43451125/pytorch-what-are-the-gradient-arguments"),
    LearnerQuery(
        "gradient checkpointing to save memory",
        (gallery("tracking/plot_20_saved_tensors_and_memory"),),
        "https://discuss.pytorch.org/t/gradient-checkpointing-in-pytorch/12977"),
    LearnerQuery(
        "gradients with torch.compile",
        (gallery("tracking/plot_24_dynamic_graphs_and_compile"),),
        "https://github.com/pytorch/pytorch/issues/104943"),
    LearnerQuery(
        "PINN derivatives of the output with respect to the inputs",
        (gallery("pinns/plot_17_pinn_ode"), page("howto/pinn_residual_with_gradkit"),
         gallery("pinns/plot_18_poisson_2d")),
        "https://discuss.pytorch.org/t/efficient-calculation-of-derivatives-for-pinn-solvers-in-pytorch/177249"),
    LearnerQuery(
        "gradient accumulation divide loss by accumulation steps",
        (gallery("basics/plot_02_gradient_accumulation"),),
        "https://discuss.pytorch.org/t/pytorch-gradient-accumulation/55955"),
    LearnerQuery(
        "grad is None after moving tensor to GPU",
        (gallery("basics/plot_04_leaf_tensors"), gallery("tracking/plot_25_more_common_errors")),
        "https://github.com/pytorch/pytorch/issues/13112"),
    LearnerQuery(
        "grad attribute of a tensor that is not a leaf tensor is being accessed",
        (gallery("basics/plot_04_leaf_tensors"),),
        "https://github.com/Maghoumi/pytorch-softdtw-cuda/issues/25"),
    LearnerQuery(
        "grad_fn next_functions",
        (gallery("basics/plot_04b_computational_graph"),),
        "https://discuss.pytorch.org/t/in-the-grad-fn-i-find-a-next-functions-but-i-dont-understand-the-meaning-of-the-attribute/24463"),
    LearnerQuery(
        "how to compute jvp instead of vjp",
        (gallery("jacobians/plot_15_forward_mode"),),
        "https://github.com/pytorch/functorch/issues/67"),
    LearnerQuery(
        "how to write the backward function of a custom Function",
        (gallery("extending/plot_16_custom_autograd_function"),
         gallery("extending/plot_22_custom_functions_in_depth")),
        "https://github.com/sonack/How_to_write_cuda_extensions_in_pytorch/issues/2"),
    LearnerQuery(
        "retain_grad",
        (gallery("basics/plot_04_leaf_tensors"),),
        "https://runebook.dev/en/docs/pytorch/generated/torch.tensor.retain_grad"),
    # -- answered by the sections added for issue 20, part 2 --
    LearnerQuery(
        "in-place operation on a slice changes is_leaf",
        (gallery("tracking/plot_27_views_and_inplace"),),
        "https://discuss.pytorch.org/t/inplace-operation-changes-is-leaf-attribute/120297",
    ),
    LearnerQuery(
        "GPU memory increases when accumulating loss",
        (gallery("training/plot_11_training_step"),
         gallery("tracking/plot_20_saved_tensors_and_memory")),
        "https://discuss.pytorch.org/t/gpu-memory-increase-while-i-wanna-to-backward-with-accumulative-loss/43284",
    ),
    LearnerQuery(
        "GAN detach fake images discriminator",
        (gallery("training/plot_21_autograd_in_training"),),
        "https://deadends.dev/cuda/backward-through-graph-twice",
    ),
)
