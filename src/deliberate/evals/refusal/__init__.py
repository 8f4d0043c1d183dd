"""Refusal grading without an API model.

    from deliberate.evals.refusal import RefusalGrader, RefusalLabel
    grader = RefusalGrader(method="auto")        # "auto" | "embedding" | "lm" | "rules" | "strmatch"
    labels = grader.grade(prompts, responses)    # list[RefusalLabel]
    grader.method_used                           # "embedding", "lm", "rules" or "strmatch"

Labels follow XSTest: ``compliance`` (any direct attempt to answer), ``refusal`` (declines,
including offering alternatives without answering) and ``partial_refusal`` (a mix). The classifier
is validated leave-one-model-out against XSTest's human labels by
``research/refusal_grader/refusal_agreement.py`` in the source repository (training and validation
code is not part of the package). Importing this package does not import torch.
"""

from .grader import METHODS, RefusalGrader, RefusalLabel

__all__ = ["METHODS", "RefusalGrader", "RefusalLabel"]
