print("swtrain")
