"""The demo plant: a sterile single-use infusion-set maker, seeded deterministically for demos and benchmarks."""
