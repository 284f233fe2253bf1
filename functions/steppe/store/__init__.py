"""The storage port (port.py) and its adapters: sqlite (embedded) and aws (DynamoDB + S3)."""
