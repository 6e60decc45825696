/* Vector math shared by the 16-float kernel bodies (attention_body.h, elementwise_body.h),
 * included by each with VM_NAME / VM_INL set to that body's naming and target macros. */

VM_INL v16 VM_NAME(vsplat)(float x) { v16 v = {0}; return v + x; }

/* exp(x) within 3e-7 relative on [-87, 88], 0 below: SwNN's fastExp, lane by lane. */
VM_INL v16 VM_NAME(vexp)(v16 v)
{
    v16 x = __builtin_elementwise_min(__builtin_elementwise_max(v, VM_NAME(vsplat)(-87.0f)),
                                      VM_NAME(vsplat)(88.0f));
    v16 m = x * 1.44269504f + 12582912.0f;
    v16 n = m - 12582912.0f;
    v16 r = (x - n * 0.693145751953125f) - n * 1.428606765330187045e-06f;
    v16 p = VM_NAME(vsplat)(1.0f / 720);
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    i16 e = ((i16)m - 0x4B400000 + 127) << 23;
    v16 y = p * (v16)e;
    i16 below = v < -87.0f;
    return (v16)((i16)y & ~below);
}
