"""Grumble's engine: collect mentions, score them, rank them, surface them, answer them."""
