"""One builder per kind of STIX object a submission becomes; steppe.conversion.converter
decides which to build, in what order, and with which ids."""
