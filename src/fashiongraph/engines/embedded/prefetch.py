"""A software prefetch for numba kernels (LLVM's ``llvm.prefetch``).

Kernels that chase pointers through arrays larger than the caches (the random walk) ask for the
next rows of many independent walks before they read any of them, so that the memory loads
overlap. A prefetch never faults and never changes results; it only moves a cache line closer.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, array, index):
    """Hint that ``array[index]`` (its first element along further axes) is read soon.

    ``index`` must be in bounds (it is not checked; a prefetch of a bad address is harmless to
    the program but pointless).
    """
    if not isinstance(array, types.Array) or not isinstance(index, types.Integer):
        return None
    sig = types.void(array, index)

    def codegen(context, builder, signature, args):
        array_type, index_type = signature.args
        ary = context.make_array(array_type)(context, builder, args[0])
        first = context.cast(builder, args[1], index_type, types.intp)
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, array_type, ary,
                                       [first] + [zero] * (array_type.ndim - 1),
                                       wraparound=False)
        i32 = ir.IntType(32)
        byte_ptr = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # Arguments: read (0), keep in all cache levels (3), data cache (1).
        builder.call(fn, [builder.bitcast(ptr, byte_ptr), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
