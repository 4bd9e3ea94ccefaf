"""`make bench`: the load harness (scripts/bench.sh drives it; README "Performance and proof")."""
