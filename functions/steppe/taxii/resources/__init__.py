"""The TAXII 2.1 resources, one module each: they shape their resource and nothing else.

Authentication, content negotiation, errors and auditing are done once, by
steppe.taxii.serving.TaxiiService.handle, around every one of them.
"""
