"""The detect-and-segment tab: detection, open-vocabulary detection, segmentation, depth, masks from a point, keypoint matching."""
