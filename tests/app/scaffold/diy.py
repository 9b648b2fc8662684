n = 3
print(n ** 2)
