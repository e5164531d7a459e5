"""Run a trained or deployed 3D detector over what the car recorded: ROS 1/ROS 2 bags or folders of frames.

``frame.FrameDetector`` is the one per-frame function (points in, boxes out) that the bag runner
(``python -m scripts.loop.infer``), auto-labelling and the ROS 2 node share.
"""
