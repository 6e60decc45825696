/// The trainer. (In progress.)
public enum SwTrain {}
