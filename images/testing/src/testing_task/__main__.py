print("testing task")
