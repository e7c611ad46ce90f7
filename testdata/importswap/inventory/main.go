// Command inventory is a small application written against the MongoDB Go
// driver, with nothing Argon-specific in it. The import-swap test compiles
// it twice: as it is, against the driver and a MongoDB server, and with its
// import line changed to Argon, and requires both to print the same lines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/primitive"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Product is a catalogue entry.
type Product struct {
	ID      primitive.ObjectID `bson:"_id,omitempty"`
	SKU     string             `bson:"sku"`
	Name    string             `bson:"name"`
	Price   float64            `bson:"price"`
	Stock   int32              `bson:"stock"`
	Tags    []string           `bson:"tags,omitempty"`
	Created time.Time          `bson:"created"`
}

// Order is a purchase of some units of one product.
type Order struct {
	ID       int64  `bson:"_id"`
	SKU      string `bson:"sku"`
	Quantity int32  `bson:"qty"`
	Customer string `bson:"customer"`
	Status   string `bson:"status"`
}

// ErrOutOfStock is returned when an order asks for more than is left.
var ErrOutOfStock = errors.New("out of stock")

// Inventory keeps products and orders.
type Inventory struct {
	products *mongo.Collection
	orders   *mongo.Collection
}

// NewInventory prepares the collections and their indexes.
func NewInventory(ctx context.Context, db *mongo.Database) (*Inventory, error) {
	inv := &Inventory{products: db.Collection("products"), orders: db.Collection("orders")}
	_, err := inv.products.Indexes().CreateMany(ctx, []mongo.IndexModel{
		{Keys: bson.D{{Key: "sku", Value: 1}}, Options: options.Index().SetUnique(true)},
		{Keys: bson.D{{Key: "tags", Value: 1}, {Key: "price", Value: -1}}},
	})
	if err != nil {
		return nil, fmt.Errorf("creating indexes: %w", err)
	}
	return inv, nil
}

// AddProducts inserts products; a duplicate SKU is reported, not fatal.
func (inv *Inventory) AddProducts(ctx context.Context, ps []Product) (int, error) {
	docs := make([]interface{}, len(ps))
	for i := range ps {
		docs[i] = ps[i]
	}
	res, err := inv.products.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	if res == nil {
		return 0, err
	}
	if mongo.IsDuplicateKeyError(err) {
		return len(res.InsertedIDs), nil
	}
	return len(res.InsertedIDs), err
}

// Product returns the product with this SKU.
func (inv *Inventory) Product(ctx context.Context, sku string) (*Product, error) {
	var p Product
	err := inv.products.FindOne(ctx, bson.M{"sku": sku}).Decode(&p)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, fmt.Errorf("product %s: not found", sku)
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// PlaceOrder takes stock with a conditional update, then records the order.
func (inv *Inventory) PlaceOrder(ctx context.Context, o Order) error {
	res, err := inv.products.UpdateOne(ctx,
		bson.M{"sku": o.SKU, "stock": bson.M{"$gte": o.Quantity}},
		bson.M{"$inc": bson.M{"stock": -o.Quantity}, "$currentDate": bson.M{"updated": true}})
	if err != nil {
		return err
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("order %d for %s: %w", o.ID, o.SKU, ErrOutOfStock)
	}
	o.Status = "placed"
	_, err = inv.orders.InsertOne(ctx, o)
	var we mongo.WriteException
	if errors.As(err, &we) && we.HasErrorCode(11000) {
		return fmt.Errorf("order %d: already placed", o.ID)
	}
	return err
}

// Cheapest lists the n cheapest products carrying tag, name and price only.
func (inv *Inventory) Cheapest(ctx context.Context, tag string, n int64) ([]Product, error) {
	cur, err := inv.products.Find(ctx, bson.D{{Key: "tags", Value: tag}},
		options.Find().SetSort(bson.D{{Key: "price", Value: 1}, {Key: "sku", Value: 1}}).
			SetLimit(n).SetProjection(bson.M{"name": 1, "price": 1, "sku": 1}))
	if err != nil {
		return nil, err
	}
	var out []Product
	if err := cur.All(ctx, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Revenue sums each customer's order quantities times the product price.
func (inv *Inventory) Revenue(ctx context.Context) (map[string]float64, error) {
	pipeline := mongo.Pipeline{
		{{Key: "$match", Value: bson.M{"status": "placed"}}},
		{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: bson.D{{Key: "customer", Value: "$customer"}, {Key: "sku", Value: "$sku"}}},
			{Key: "units", Value: bson.M{"$sum": "$qty"}},
		}}},
		{{Key: "$sort", Value: bson.D{{Key: "_id.customer", Value: 1}, {Key: "_id.sku", Value: 1}}}},
	}
	cur, err := inv.orders.Aggregate(ctx, pipeline)
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	out := map[string]float64{}
	for cur.Next(ctx) {
		var row struct {
			ID struct {
				Customer string `bson:"customer"`
				SKU      string `bson:"sku"`
			} `bson:"_id"`
			Units int32 `bson:"units"`
		}
		if err := cur.Decode(&row); err != nil {
			return nil, err
		}
		p, err := inv.Product(ctx, row.ID.SKU)
		if err != nil {
			return nil, err
		}
		out[row.ID.Customer] += float64(row.Units) * p.Price
	}
	return out, cur.Err()
}

// Reprice applies percentage changes per SKU in one bulk write.
func (inv *Inventory) Reprice(ctx context.Context, pct map[string]float64) (*mongo.BulkWriteResult, error) {
	skus := make([]string, 0, len(pct))
	for s := range pct {
		skus = append(skus, s)
	}
	sort.Strings(skus)
	models := make([]mongo.WriteModel, 0, len(skus)+1)
	for _, s := range skus {
		models = append(models, mongo.NewUpdateOneModel().
			SetFilter(bson.M{"sku": s}).
			SetUpdate(bson.M{"$mul": bson.M{"price": 1 + pct[s]/100}}))
	}
	models = append(models, mongo.NewReplaceOneModel().
		SetFilter(bson.M{"sku": "gift-card"}).
		SetReplacement(bson.M{"sku": "gift-card", "name": "Gift card", "price": 25.0, "stock": int32(1000)}).
		SetUpsert(true))
	return inv.products.BulkWrite(ctx, models)
}

// Cancel marks an order cancelled and returns its stock, returning the
// order as it was before.
func (inv *Inventory) Cancel(ctx context.Context, id int64) (*Order, error) {
	var before Order
	err := inv.orders.FindOneAndUpdate(ctx, bson.M{"_id": id, "status": "placed"},
		bson.M{"$set": bson.M{"status": "cancelled"}},
		options.FindOneAndUpdate().SetReturnDocument(options.Before)).Decode(&before)
	if err != nil {
		return nil, fmt.Errorf("cancel %d: %w", id, err)
	}
	_, err = inv.products.UpdateOne(ctx, bson.M{"sku": before.SKU}, bson.M{"$inc": bson.M{"stock": before.Quantity}})
	return &before, err
}

func run(ctx context.Context, db *mongo.Database) error {
	inv, err := NewInventory(ctx, db)
	if err != nil {
		return err
	}
	created := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	n, err := inv.AddProducts(ctx, []Product{
		{SKU: "kb-01", Name: "Keyboard", Price: 49.5, Stock: 10, Tags: []string{"desk", "input"}, Created: created},
		{SKU: "ms-01", Name: "Mouse", Price: 19.99, Stock: 3, Tags: []string{"desk", "input"}, Created: created},
		{SKU: "lm-01", Name: "Lamp", Price: 35, Stock: 0, Tags: []string{"desk"}, Created: created},
		{SKU: "ms-01", Name: "Mouse (dup)", Price: 1, Stock: 1, Created: created},
		{SKU: "cb-01", Name: "Cable", Price: 4.25, Stock: 100, Tags: []string{"input"}, Created: created},
	})
	fmt.Printf("added %d products (err: %v)\n", n, err != nil)

	p, err := inv.Product(ctx, "kb-01")
	if err != nil {
		return err
	}
	fmt.Printf("product %s %q %.2f stock=%d tags=%v created=%s oid=%v\n",
		p.SKU, p.Name, p.Price, p.Stock, p.Tags, p.Created.UTC().Format(time.RFC3339), !p.ID.IsZero())
	if _, err := inv.Product(ctx, "nope"); err != nil {
		fmt.Println("lookup:", err)
	}

	for _, o := range []Order{
		{ID: 1, SKU: "kb-01", Quantity: 2, Customer: "ada"},
		{ID: 2, SKU: "ms-01", Quantity: 5, Customer: "ada"},
		{ID: 3, SKU: "ms-01", Quantity: 3, Customer: "grace"},
		{ID: 4, SKU: "cb-01", Quantity: 10, Customer: "grace"},
		{ID: 4, SKU: "cb-01", Quantity: 1, Customer: "grace"},
		{ID: 5, SKU: "lm-01", Quantity: 1, Customer: "edsger"},
	} {
		fmt.Printf("order %d: %v\n", o.ID, inv.PlaceOrder(ctx, o))
	}

	cheap, err := inv.Cheapest(ctx, "input", 2)
	if err != nil {
		return err
	}
	for _, p := range cheap {
		fmt.Printf("cheap input: %s %s %.2f stock=%d\n", p.SKU, p.Name, p.Price, p.Stock)
	}

	rev, err := inv.Revenue(ctx)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(rev))
	for c := range rev {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		fmt.Printf("revenue %s: %.2f\n", c, rev[c])
	}

	bw, err := inv.Reprice(ctx, map[string]float64{"kb-01": 10, "cb-01": -20, "zz-99": 5})
	if err != nil {
		return err
	}
	fmt.Printf("reprice: matched=%d modified=%d upserted=%d\n", bw.MatchedCount, bw.ModifiedCount, bw.UpsertedCount)

	o, err := inv.Cancel(ctx, 1)
	if err != nil {
		return err
	}
	fmt.Printf("cancelled order %d (%s x%d, was %s)\n", o.ID, o.SKU, o.Quantity, o.Status)
	if _, err := inv.Cancel(ctx, 1); err != nil {
		fmt.Println("cancel again:", err)
	}

	count, err := inv.products.CountDocuments(ctx, bson.M{"stock": bson.M{"$gt": 0}})
	if err != nil {
		return err
	}
	tags, err := inv.products.Distinct(ctx, "tags", bson.D{})
	if err != nil {
		return err
	}
	var tagNames []string
	for _, t := range tags {
		tagNames = append(tagNames, t.(string))
	}
	fmt.Printf("in stock: %d, tags: %s\n", count, strings.Join(tagNames, ","))

	cur, err := inv.products.Find(ctx, bson.M{}, options.Find().SetSort(bson.M{"sku": 1}))
	if err != nil {
		return err
	}
	var all []bson.M
	if err := cur.All(ctx, &all); err != nil {
		return err
	}
	for _, d := range all {
		fmt.Printf("final %v price=%.2f stock=%v updated=%v\n", d["sku"], d["price"], d["stock"], d["updated"] != nil)
	}

	del, err := inv.orders.DeleteMany(ctx, bson.M{"status": "cancelled"})
	if err != nil {
		return err
	}
	fmt.Printf("deleted %d cancelled orders\n", del.DeletedCount)

	specs, err := inv.products.Indexes().ListSpecifications(ctx)
	if err != nil {
		return err
	}
	var idx []string
	for _, s := range specs {
		idx = append(idx, fmt.Sprintf("%s(unique=%v)", s.Name, s.Unique != nil && *s.Unique))
	}
	sort.Strings(idx)
	fmt.Println("indexes:", strings.Join(idx, " "))

	_, err = inv.products.UpdateOne(ctx, bson.M{"sku": "kb-01"}, bson.M{"$bogus": bson.M{"a": 1}})
	fmt.Printf("unknown operator refused: %v\n", err != nil)
	_, err = inv.products.InsertOne(ctx, bson.M{"_id": bson.A{1, 2}, "sku": "bad"})
	fmt.Printf("array _id refused: %v\n", err != nil)
	_, err = inv.products.UpdateMany(ctx, bson.M{}, bson.M{"$set": bson.M{"stock": 1}, "$inc": bson.M{"stock": 1}})
	fmt.Printf("conflicting paths refused: %v\n", err != nil)
	return nil
}

func main() {
	uri := flag.String("uri", "mongodb://127.0.0.1:27017", "MongoDB connection string")
	dbName := flag.String("db", "inventory", "database name")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	client, err := mongo.Connect(ctx, options.Client().ApplyURI(*uri))
	if err != nil {
		fmt.Fprintln(os.Stderr, "inventory:", err)
		os.Exit(1)
	}
	defer client.Disconnect(context.Background())
	db := client.Database(*dbName)
	defer db.Drop(context.Background())
	if err := run(ctx, db); err != nil {
		fmt.Fprintln(os.Stderr, "inventory:", err)
		os.Exit(1)
	}
}
