"""The storage port (port/, one module per port) and its adapters: sqlite (embedded) and aws
(DynamoDB + S3 + SQS); the one write path (write_path.py) and latest-version reads on top.
"""
