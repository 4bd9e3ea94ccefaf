"""Small statistics the figures need beyond what SQL returns: pure functions, no database."""

import math

Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval


def wilson(successes: int, total: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval (low, high) of a proportion, as fractions; None without observations."""
    if total <= 0:
        return None
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def percent(part, whole, digits=1):
    """part/whole as a percentage, rounded; None when whole is 0."""
    return None if not whole else round(100 * part / whole, digits)
