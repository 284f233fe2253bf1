"""One module per Lambda function in template.yaml; each is a thin shell: parse, call, respond."""
