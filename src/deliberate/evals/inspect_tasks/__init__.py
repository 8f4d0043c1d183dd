"""inspect_ai tasks for the three suites, graded by the project's own graders.

Install with ``pip install 'deliberate[inspect]'``; the ``inspect_ai`` entry point in
pyproject.toml registers the tasks, so inspect finds them by name::

    inspect eval deliberate/strongreject --model openai/gpt-4o-mini -T grader=openai/gpt-4o
    inspect eval deliberate/xstest --model ollama/qwen3:1.7b -T refusal_method=strmatch
    inspect eval deliberate/spec_adherence --model openai/gpt-4o-mini --model-role grader=openai/gpt-4o
    inspect view

Each task sends the same prompts as ``deliberate eval`` (StrongREJECT under the selected
jailbreaks, XSTest, the spec's examples) through inspect's model providers, and scores the
answers with the same graders: the refusal label (the no-API grader, or the LLM grader with the
XSTest rules), the StrongREJECT rubric (the official prompts when available) and the spec judge.
The grader model is ``-T grader=MODEL``, else the ``grader`` model role, else none (local
refusal labels only, as without ``--grader``). Metrics are the suites' own definitions
(goodness@0.1, not_overrefuse, mode_agreement ...), computed over every epoch's scores.

Modules: :mod:`.tasks` (the ``@task`` functions), :mod:`.scorers` (scorers and the metric),
:mod:`.grading` (one answer's grading, async). Importing this package imports nothing from
inspect_ai; those modules do, and only inspect (or a user) imports them.
"""
