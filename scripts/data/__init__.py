"""Data tools: synthetic scenes, converters, bags; they use extensions/ readers and writers."""
