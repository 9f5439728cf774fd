"""Running waves: stage sequencing, one wave end to end, batches on Dask, the per-wave lock, publishing."""
