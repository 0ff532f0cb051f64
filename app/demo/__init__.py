"""``make demo`` / ``make run``: the real pipeline on a laptop, on embedded defaults."""
