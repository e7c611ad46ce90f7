module github.com/argon-lab/argon

go 1.26

require (
	github.com/stretchr/testify v1.12.1 // indirect
	go.mongodb.org/mongo-driver v1.17.10 // indirect
	golang.org/x/sync v0.25.0 // indirect
)
