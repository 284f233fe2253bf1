"""Observations as analysts report them: the model, values, correlation keys, parsers."""
