module github.com/argon-lab/argon

go 1.26.0

require (
	github.com/stretchr/testify v1.12.1
	github.com/tidwall/btree v1.8.2
	go.mongodb.org/mongo-driver v1.17.10
	golang.org/x/sync v0.8.0
	golang.org/x/text v0.17.0
)

require (
	github.com/golang/snappy v0.0.4 // indirect
	github.com/klauspost/compress v1.16.7 // indirect
	github.com/montanaflynn/stats v0.7.1 // indirect
	github.com/xdg-go/pbkdf2 v1.0.0 // indirect
	github.com/xdg-go/scram v1.1.2 // indirect
	github.com/xdg-go/stringprep v1.0.4 // indirect
	github.com/youmark/pkcs8 v0.0.0-20240726163527-a2c0da244d78 // indirect
	go.yaml.in/yaml/v3 v3.0.5 // indirect
	golang.org/x/crypto v0.26.0 // indirect
)
