from extensions.optim.bf16 import BFloat16OptimWrapper

__all__ = ["BFloat16OptimWrapper"]
