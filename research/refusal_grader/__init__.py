"""How the refusal grader (``deliberate.evals.refusal``) was trained and validated: data loading,
augmentation and leave-one-model-out validation (:mod:`.training`), the logistic-regression fit
(:mod:`.fit`), the agreement benchmark (:mod:`.refusal_agreement`) and the script that writes the
shipped weights (:mod:`.train_refusal_classifier`). Notes and results: ``README.md`` here.

The package itself needs none of this: it ships the inference code and the weights only.
"""
