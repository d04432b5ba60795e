"""How pydantic reads every class of the report (report/jsonfile.py), in one place for model.py and
vuln_facts.py alike: a field the model does not know -- a typo, a rename -- is an error, not silently
dropped."""

STRICT = {"extra": "forbid"}
