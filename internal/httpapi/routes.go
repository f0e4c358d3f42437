package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/waybill/waybill/internal/auth"
	"github.com/waybill/waybill/internal/order"
)

// routes is the API's one route table, read top to bottom. Each line names
// method, path, the scope a key needs, the operation id, and the handler.
func (a *API) routes() {
	// Catalogue
	route(a, "GET /products", "catalog:read", "list-products", "List products", a.listProducts)
	route(a, "POST /products", "catalog:write", "create-product", "Create a product", a.createProduct, created)
	route(a, "GET /products/{id}", "catalog:read", "get-product", "Get a product", a.getProduct)
	route(a, "PATCH /products/{id}", "catalog:write", "update-product", "Update a product", a.updateProduct)
	route(a, "POST /products/{id}/archive", "catalog:write", "archive-product", "Archive a product", a.archiveProduct)
	route(a, "POST /products/{id}/unarchive", "catalog:write", "unarchive-product", "Unarchive a product", a.unarchiveProduct)
	route(a, "POST /products/import", "catalog:write", "import-products", "Import products from a CSV file", a.importProducts, csvUpload)
	route(a, "GET /products/export", "catalog:read", "export-products", "Export products as a CSV file", a.exportProducts, csvDownload)

	// Inventory
	route(a, "GET /facilities", "inventory:read", "list-facilities", "List facilities", a.listFacilities)
	route(a, "POST /facilities", "inventory:write", "create-facility", "Create a facility", a.createFacility, created)
	route(a, "GET /facilities/{id}", "inventory:read", "get-facility", "Get a facility", a.getFacility)
	route(a, "PATCH /facilities/{id}", "inventory:write", "update-facility", "Update a facility", a.updateFacility)
	route(a, "GET /facilities/{id}/connection", "settings:read", "get-facility-connection", "How a 3PL or supplier facility is reached", a.getConnection)
	route(a, "PUT /facilities/{id}/connection", "settings:write", "put-facility-connection", "Connect a 3PL or supplier facility (the signing secret is shown once, when made)", a.putConnection)
	route(a, "DELETE /facilities/{id}/connection", "settings:write", "delete-facility-connection", "Disconnect a facility: its requests wait", a.deleteConnection, noContent)
	route(a, "POST /facilities/{id}/connection/rotate-secret", "settings:write", "rotate-facility-connection-secret", "Give a connection a new signing secret (shown once)", a.rotateConnectionSecret)
	route(a, "POST /facilities/{id}/stock-sync", "inventory:write", "sync-facility-stock", "Pull a 3PL's stock now and book the differences as a count", a.syncFacilityStock)
	route(a, "POST /facilities/{id}/api-keys", "settings:write", "create-facility-api-key", "Create the API key a 3PL answers with: it works only this facility's fulfilment orders (shown once)", a.createFacilityKey, created)
	route(a, "GET /facilities/{id}/cost-profile", "analytics:read", "get-facility-cost-profile", "A facility's fulfilment fees", a.getCostProfile)
	route(a, "PUT /facilities/{id}/cost-profile", "settings:write", "put-facility-cost-profile", "Set a facility's fulfilment fees", a.putCostProfile)
	route(a, "GET /facilities/{id}/supplier-costs", "analytics:read", "list-supplier-costs", "A dropship supplier's prices per SKU", a.listSupplierCosts)
	route(a, "PUT /facilities/{id}/supplier-costs", "settings:write", "put-supplier-costs", "Replace a dropship supplier's price list, all or nothing", a.putSupplierCosts)
	route(a, "GET /facilities/{id}/bins", "inventory:read", "list-bins", "List a facility's bins", a.listBins)
	route(a, "POST /facilities/{id}/bins", "inventory:write", "create-bin", "Add a bin to a facility", a.createBin, created)
	route(a, "GET /bins/{id}", "inventory:read", "get-bin", "Get a bin", a.getBin)
	route(a, "PATCH /bins/{id}", "inventory:write", "update-bin", "Update a bin", a.updateBin)
	route(a, "GET /inventory", "inventory:read", "list-inventory", "Stock levels per SKU and facility, with days of cover", a.listInventory)
	route(a, "GET /inventory/movements", "inventory:read", "list-movements", "The stock ledger", a.listMovements)
	route(a, "POST /inventory/import", "inventory:write", "import-stock", "Set counted stock from a CSV file", a.importStock, stockCSVUpload)
	route(a, "GET /inventory/export", "inventory:read", "export-stock", "Export on-hand stock as a CSV file", a.exportStock, stockCSVDownload)
	route(a, "POST /inventory/adjustments", "inventory:write", "adjust-inventory", "Receive, adjust or write off stock", a.adjustInventory, created)
	route(a, "POST /inventory/counts", "inventory:write", "count-inventory", "Record a stock count", a.countInventory, created)
	route(a, "GET /inventory/transfers", "inventory:read", "list-transfers", "List transfers", a.listTransfers)
	route(a, "POST /inventory/transfers", "inventory:write", "create-transfer", "Move stock between facilities", a.createTransfer, created)
	route(a, "GET /inventory/transfers/{id}", "inventory:read", "get-transfer", "Get a transfer", a.getTransfer)
	route(a, "POST /inventory/transfers/{id}/receive", "inventory:write", "receive-transfer", "Receive a transfer at its destination", a.receiveTransfer)
	route(a, "GET /products/{id}/reorder-settings", "inventory:read", "get-reorder-settings", "A SKU's lead time and safety stock", a.getReorderSettings)
	route(a, "PUT /products/{id}/reorder-settings", "inventory:write", "set-reorder-settings", "Set a SKU's lead time and safety stock", a.setReorderSettings)
	route(a, "GET /reservations", "inventory:read", "list-reservations", "List reservations", a.listReservations)
	route(a, "POST /reservations", "inventory:write", "create-reservation", "Reserve stock (all lines or none)", a.createReservation, created)
	route(a, "GET /reservations/{id}", "inventory:read", "get-reservation", "Get a reservation", a.getReservation)
	route(a, "DELETE /reservations/{id}", "inventory:write", "release-reservation", "Release a reservation", a.releaseReservation)

	// Orders
	route(a, "GET /orders", "orders:read", "list-orders", "List and search orders", a.listOrders)
	route(a, "POST /orders", "orders:write", "create-order", "Create an order and reserve its stock (the same channel + external_id again returns the stored order)", a.createOrder, created)
	route(a, "GET /orders/{id}", "orders:read", "get-order", "Get an order", a.getOrder)
	route(a, "PATCH /orders/{id}", "orders:write", "edit-order", "Edit an open order: lines, quantities, addresses, customer, note, tags", a.editOrder)
	route(a, "POST /orders/{id}/cancel", "orders:write", "cancel-order", "Cancel an order, or some units of some lines", a.cancelOrder)
	route(a, "POST /orders/{id}/holds", "orders:write", "hold-order", "Put an order on hold", a.holdOrder)
	route(a, "POST /orders/{id}/holds/release", "orders:write", "release-order-hold", "Release one of an order's holds", a.releaseOrderHold)
	route(a, "GET /orders/{id}/timeline", "orders:read", "order-timeline", "An order's history: who did what, when", a.orderTimeline)

	// Fulfilment
	route(a, "GET /orders/{id}/fulfillment-orders", "fulfillment:read", "list-order-fulfillment-orders", "An order's fulfilment orders, one per facility holding its stock", a.listOrderFulfillmentOrders)
	route(a, "GET /orders/{id}/cost-estimate", "analytics:read", "get-order-cost-estimate", "What fulfilling an order costs, per fulfilment order (fees from cost profiles, supplier prices)", a.orderCostEstimate)
	route(a, "GET /insights/fulfillment-costs", "analytics:read", "get-fulfillment-costs", "Self-fulfilment vs 3PL vs dropship: cost per month and per order at the merchant's volume (30 or 90 days) or at a given one", a.fulfillmentCosts)
	route(a, "GET /fulfillment-orders", "fulfillment:read", "list-fulfillment-orders", "List fulfilment orders (a 3PL's key sees its facility's only)", a.listFulfillmentOrders)
	route(a, "GET /fulfillment-orders/{id}", "fulfillment:read", "get-fulfillment-order", "Get a fulfilment order", a.getFulfillmentOrder)
	route(a, "GET /fulfillment-orders/{id}/requests", "fulfillment:read", "list-fulfillment-order-requests", "A fulfilment order's request history: requests sent, answers received", a.fulfillmentOrderRequests)
	route(a, "POST /fulfillment-orders/{id}/fulfill", "fulfillment:write", "fulfill-fulfillment-order", "Ship units of a fulfilment order (all remaining when no lines): records a shipment and consumes the reserved stock", a.fulfillFulfillmentOrder, created)
	route(a, "POST /fulfillment-orders/{id}/hold", "fulfillment:write", "hold-fulfillment-order", "Hold a fulfilment order: it is neither sent nor shipped until released", a.action(order.ActionHold))
	route(a, "POST /fulfillment-orders/{id}/release", "fulfillment:write", "release-fulfillment-order", "Release a held fulfilment order", a.action(order.ActionRelease))
	route(a, "POST /fulfillment-orders/{id}/cancel", "fulfillment:write", "cancel-fulfillment-order", "Cancel a fulfilment order (asks the 3PL first when it has the request); what it held waits in a replacement", a.action(order.ActionCancel))
	route(a, "POST /fulfillment-orders/{id}/move", "fulfillment:write", "move-fulfillment-order", "Move what a fulfilment order holds (or, with lines, part of it: a split) to another facility, all or nothing", a.moveFulfillmentOrder)
	route(a, "POST /fulfillment-orders/{id}/split", "fulfillment:write", "split-fulfillment-order", "Split units off a fulfilment order into a new one at the same facility (or, with facility, send them there); answers with the new one", a.splitFulfillmentOrder)
	route(a, "POST /fulfillment-orders/{id}/merge", "fulfillment:write", "merge-fulfillment-order", "Merge a fulfilment order into another of the same order (at the same facility they become one; elsewhere everything moves there)", a.mergeFulfillmentOrder)
	route(a, "POST /fulfillment-orders/{id}/schedule", "fulfillment:write", "schedule-fulfillment-order", "Schedule a fulfilment order to open at fulfill_at (pre-orders): it is neither sent nor shipped before", a.action(order.ActionSchedule))
	route(a, "POST /fulfillment-orders/{id}/open", "fulfillment:write", "open-fulfillment-order", "Open a scheduled fulfilment order now", a.action(order.ActionOpen))
	route(a, "POST /fulfillment-orders/{id}/close", "fulfillment:write", "close-fulfillment-order", "The 3PL closes the request unfinished: INCOMPLETE, what is left stays reserved there and the order is held for the merchant", a.action(order.ActionClose))
	route(a, "POST /fulfillment-orders/{id}/submit", "fulfillment:write", "submit-fulfillment-order", "Send (again) the request to the 3PL or supplier", a.action(order.ActionSubmit))
	route(a, "POST /fulfillment-orders/{id}/accept", "fulfillment:write", "accept-fulfillment-order", "The 3PL accepts the request", a.action(order.ActionAccept))
	route(a, "POST /fulfillment-orders/{id}/reject", "fulfillment:write", "reject-fulfillment-order", "The 3PL rejects the request: the units are re-sourced elsewhere, or the order is held with the reason", a.action(order.ActionReject))
	route(a, "POST /fulfillment-orders/{id}/accept_cancellation", "fulfillment:write", "accept-fulfillment-order-cancellation", "The 3PL accepts a cancellation request", a.action(order.ActionAcceptCancellation))
	route(a, "POST /fulfillment-orders/{id}/reject_cancellation", "fulfillment:write", "reject-fulfillment-order-cancellation", "The 3PL refuses a cancellation request (it will ship)", a.action(order.ActionRejectCancellation))

	// Routing
	route(a, "GET /routing-rules", "settings:read", "list-routing-rules", "List routing rules in the order they apply", a.listRoutingRules)
	route(a, "POST /routing-rules", "settings:write", "create-routing-rule", "Add a routing rule", a.createRoutingRule, created)
	route(a, "GET /routing-rules/{id}", "settings:read", "get-routing-rule", "Get a routing rule", a.getRoutingRule)
	route(a, "PUT /routing-rules/{id}", "settings:write", "update-routing-rule", "Replace a routing rule", a.updateRoutingRule)
	route(a, "DELETE /routing-rules/{id}", "settings:write", "delete-routing-rule", "Delete a routing rule", a.deleteRoutingRule, noContent)
	route(a, "GET /orders/{id}/routing", "orders:read", "explain-order-routing", "Which routing rules match an order, what they do, and where each line may go", a.previewRouting)

	// Sales channels
	route(a, "GET /channels", "settings:read", "list-channels", "List sales-channel connections", a.listChannels)
	route(a, "POST /channels", "settings:write", "create-channel", "Connect a sales channel (its secrets are never shown again)", a.createChannel, created)
	route(a, "GET /channels/{id}", "settings:read", "get-channel", "Get a channel connection", a.getChannel)
	route(a, "PATCH /channels/{id}", "settings:write", "update-channel", "Rename, pause or re-credential a channel", a.updateChannel)
	route(a, "POST /channels/{id}/poll", "orders:write", "poll-channel", "Fetch the channel's changed orders now (the reconciliation poll)", a.pollChannel)

	// Events and webhooks
	route(a, "GET /events", "settings:read", "list-events", "List events (the outbox), newest first", a.listEvents)
	route(a, "GET /events/{id}", "settings:read", "get-event", "Get an event", a.getEvent)
	route(a, "GET /webhook-endpoints", "settings:read", "list-webhook-endpoints", "List webhook endpoints", a.listWebhookEndpoints)
	route(a, "POST /webhook-endpoints", "settings:write", "create-webhook-endpoint", "Add a webhook endpoint (its secret is shown once)", a.createWebhookEndpoint, created)
	route(a, "GET /webhook-endpoints/{id}", "settings:read", "get-webhook-endpoint", "Get a webhook endpoint", a.getWebhookEndpoint)
	route(a, "PATCH /webhook-endpoints/{id}", "settings:write", "update-webhook-endpoint", "Change, disable or enable a webhook endpoint", a.updateWebhookEndpoint)
	route(a, "POST /webhook-endpoints/{id}/rotate-secret", "settings:write", "rotate-webhook-secret", "Give an endpoint a new secret (the old one signs too for 24 h)", a.rotateWebhookSecret)
	route(a, "GET /webhook-endpoints/{id}/deliveries", "settings:read", "list-webhook-deliveries", "An endpoint's deliveries, newest first", a.listWebhookDeliveries)
	route(a, "GET /webhook-deliveries/{id}", "settings:read", "get-webhook-delivery", "A delivery with every attempt", a.getWebhookDelivery)
	route(a, "GET /notification-settings", "settings:read", "get-notification-settings", "Which e-mail notifications are on", a.getNotificationSettings)
	route(a, "PATCH /notification-settings", "settings:write", "set-notification-settings", "Turn e-mail notifications on or off", a.setNotificationSettings)
	route(a, "POST /webhook-deliveries/{id}/replay", "settings:write", "replay-webhook-delivery", "Send a delivery again", a.replayWebhookDelivery)

	// Tenant, people and keys
	route(a, "GET /tenant", "settings:read", "get-tenant", "The tenant this key belongs to", a.getTenant)
	route(a, "GET /users", "settings:read", "list-users", "List dashboard users", a.listUsers)
	route(a, "POST /users", "settings:write", "create-user", "Add a dashboard user", a.createUser, created)
	route(a, "GET /users/{id}", "settings:read", "get-user", "Get a dashboard user", a.getUser)
	route(a, "PATCH /users/{id}", "settings:write", "update-user", "Change a user's name, role or access", a.updateUser)
	route(a, "GET /api-keys", "settings:read", "list-api-keys", "List API keys", a.listAPIKeys)
	route(a, "POST /api-keys", "settings:write", "create-api-key", "Create an API key (the key is shown once)", a.createAPIKey, created)
	route(a, "GET /api-keys/{id}", "settings:read", "get-api-key", "Get an API key (without its secret)", a.getAPIKey)
	route(a, "POST /api-keys/{id}/revoke", "settings:write", "revoke-api-key", "Revoke an API key at once", a.revokeAPIKey)
}

// noContent marks an operation whose success is 204.
func noContent(op *huma.Operation) { op.DefaultStatus = http.StatusNoContent }

// created marks an operation whose success is 201.
func created(op *huma.Operation) { op.DefaultStatus = http.StatusCreated }

// route registers one operation. The handler's errors become problems here,
// once, so handlers just return domain errors.
func route[I, O any](a *API, methodPath, scope, opID, summary string, h func(context.Context, *I) (*O, error), opts ...func(*huma.Operation)) {
	method, path, _ := cut(methodPath)
	op := huma.Operation{
		OperationID:  opID,
		Method:       method,
		Path:         path,
		Summary:      summary,
		Tags:         []string{tagOf(path)},
		Security:     []map[string][]string{{"bearer": {}}},
		Metadata:     map[string]any{"scope": auth.Scope(scope)},
		MaxBodyBytes: a.maxBody(nil),
		Errors:       []int{400, 401, 403, 404, 409, 413, 422, 429},
	}
	if method == http.MethodPost {
		op.Parameters = append(op.Parameters, &huma.Param{Name: "Idempotency-Key", In: "header",
			Description: "Makes the POST safe to retry: the same key and body return the first response (kept 24 h).",
			Schema:      &huma.Schema{Type: "string", MaxLength: intPtr(255)}})
	}
	for _, o := range opts {
		o(&op)
	}
	huma.Register(a.huma, op, func(ctx context.Context, in *I) (*O, error) {
		out, err := h(ctx, in)
		if err != nil {
			return nil, problemFrom(ctx, a.d.Log, err)
		}
		return out, nil
	})
}

func intPtr(i int) *int { return &i }

func cut(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return "", s, false
}

func tagOf(path string) string {
	for i := 1; i < len(path); i++ {
		if path[i] == '/' {
			return path[1:i]
		}
	}
	return path[1:]
}
