"""Getting indicators out: feeds for firewalls, sensors and MISP, and the decay that ages them."""
