"""Research code kept beside the package, not shipped in it: how its models were trained and
measured. Import it from a source checkout (the repository root on ``sys.path``)."""
