import SwTensor

/// A state buffer from an optimizer's `allocate` hook, checked to have `count` elements.
func allocateState(_ count: Int, _ allocate: (Int) -> Tensor, _ what: String) -> Tensor {
    let t = allocate(count)
    precondition(t.count == count, "\(what): allocate(\(count)) returned \(t.count) elements")
    return t
}

/// `state` moved through `remap` into a new buffer from `allocate`, checking the old size.
func remapStateBuffer(_ state: Tensor, _ remap: ParameterRemap, _ allocate: (Int) -> Tensor, _ what: String) -> Tensor {
    precondition(state.count == remap.oldCount, "\(what).remapState: the state has \(state.count) elements, the map starts from \(remap.oldCount)")
    return remap.remapped(state, allocate: allocate)
}
