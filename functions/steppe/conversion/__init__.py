"""From observations to STIX objects, through the attack-kind templates."""
