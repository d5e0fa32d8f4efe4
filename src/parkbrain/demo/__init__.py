"""The demo province: a realistic Guangxi of industrial parks for trying ParkBrain out."""

from parkbrain.demo.builder import DemoReport, build_demo, build_demo_file

__all__ = ["DemoReport", "build_demo", "build_demo_file"]
