"""Training: a catalogue of scikit-learn models, tracked runs in MLflow's store, lineage."""
