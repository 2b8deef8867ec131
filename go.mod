module github.com/hasuite/hasuite

go 1.26
