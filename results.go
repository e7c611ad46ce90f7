package argon

import "go.mongodb.org/mongo-driver/mongo"

// The driver's result and specification types, aliased so that code that
// names them (mongo.InsertOneResult, mongo.IndexModel, ...) compiles and
// behaves the same. Results are plain values: safe for concurrent reads,
// not for concurrent modification.
type (
	// InsertOneResult is the result of InsertOne: the inserted _id (the
	// document's own, or the ObjectID Argon added first, as the driver
	// does).
	InsertOneResult = mongo.InsertOneResult
	// InsertManyResult is the result of InsertMany: the _ids of the
	// documents inserted, in order.
	InsertManyResult = mongo.InsertManyResult
	// UpdateResult is the result of UpdateOne, UpdateMany, UpdateByID and
	// ReplaceOne, with exact matched, modified and upserted counts.
	UpdateResult = mongo.UpdateResult
	// DeleteResult is the result of DeleteOne and DeleteMany.
	DeleteResult = mongo.DeleteResult
	// BulkWriteResult is the result of BulkWrite.
	BulkWriteResult = mongo.BulkWriteResult
	// ListDatabasesResult is the result of Client.ListDatabases.
	ListDatabasesResult = mongo.ListDatabasesResult
	// DatabaseSpecification describes one database.
	DatabaseSpecification = mongo.DatabaseSpecification
	// CollectionSpecification describes one collection.
	CollectionSpecification = mongo.CollectionSpecification
	// IndexSpecification describes one index.
	IndexSpecification = mongo.IndexSpecification
	// IndexModel is an index to create: keys and options.
	IndexModel = mongo.IndexModel
	// SearchIndexModel is an Atlas Search index to create (not supported).
	SearchIndexModel = mongo.SearchIndexModel
	// Pipeline is an aggregation pipeline of bson.D stages.
	Pipeline = mongo.Pipeline
)
