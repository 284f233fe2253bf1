"""The attack-kind templates (stix_templates/*.yaml): their schema and the loaded registry."""
