"""Tools for people who develop this product (not used by a running deployment): the carrier scaffold."""
