"""ROS 2 launch description for the detector node: ``ros2 launch scripts/loop/infer/detector.launch.py
model:=checkpoints/<config>/deploy topic:=/points score_thr:=0.3`` (from the repository root, with ROS 2
sourced). It starts ``python -m scripts.loop.infer.ros2_node`` with the stack's Python."""

from pathlib import Path

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, ExecuteProcess
from launch.substitutions import LaunchConfiguration

REPO = Path(__file__).resolve().parents[3]


def generate_launch_description() -> LaunchDescription:
    arguments = {"model": "checkpoints/pointpillars_lidar-custom-3class/deploy", "topic": "/points", "score_thr": "0.3"}
    node = ExecuteProcess(
        cmd=[
            str(REPO / ".venv" / "bin" / "python"),
            "-m",
            "scripts.loop.infer.ros2_node",
            LaunchConfiguration("model"),
            "--topic",
            LaunchConfiguration("topic"),
            "--score-thr",
            LaunchConfiguration("score_thr"),
        ],
        cwd=str(REPO),
        output="screen",
    )
    return LaunchDescription([*(DeclareLaunchArgument(k, default_value=v) for k, v in arguments.items()), node])
