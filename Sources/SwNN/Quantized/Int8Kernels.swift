import CKernels

/// The int8 GEMM path the CKernels dispatch takes on this thread (reported by `swtrain quantize`).
public enum Int8Kernels {
    /// `"portable"`, `"vnni"` or `"amx"`.
    public static var pathName: String {
        switch Int(swt_qgemm_path()) {
        case Int(SWT_QGEMM_AMX): return "amx"
        case Int(SWT_QGEMM_VNNI): return "vnni"
        default: return "portable"
        }
    }
}
