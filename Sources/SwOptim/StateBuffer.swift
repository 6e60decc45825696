import SwTensor

/// A state buffer from an optimizer's `allocate` hook, checked to have `count` elements.
func allocateState(_ count: Int, _ allocate: (Int) -> Tensor, _ what: String) -> Tensor {
    let t = allocate(count)
    precondition(t.count == count, "\(what): allocate(\(count)) returned \(t.count) elements")
    return t
}
