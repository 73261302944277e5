"""Battery physics: cell parameters, a vectorized equivalent-circuit cell model, battery systems of
packs x cells with faults, and a device-level energy-storage fleet model. Pure numpy, no I/O."""
