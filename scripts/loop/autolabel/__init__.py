"""Pre-annotations for annotators: the infer per-frame function run over unlabelled frames or a bag."""
