package client_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"busd/client"
)

func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "/run/decnet/bus.sock", client.WithName("collector"))
	if err != nil {
		log.Fatal(err) // e.g. "busd: cannot connect to /run/decnet/bus.sock: ... connection refused"
	}
	defer c.Close() // says BYE

	// Publish builds the envelope: {"v": 1, "id", "topic", "type", "ts", "payload"}.
	err = c.Publish(ctx, "decky.d1.state", map[string]string{"state": "running"}, "state")
	if err != nil {
		log.Print(err) // client.ErrNotConnected while the daemon restarts
	}
}

func ExampleClient_Subscribe() {
	c, err := client.Dial(context.Background(), "/run/decnet/bus.sock", client.WithQueueSize(4096))
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sub, err := c.Subscribe("topology.>")
	if err != nil {
		log.Fatal(err)
	}
	for ev := range sub.C() { // closed by Unsubscribe or Close
		fmt.Println(ev.Topic, ev.Type, string(ev.Payload))
		if sub.Dropped() > 0 {
			log.Printf("fell behind: %d events dropped", sub.Dropped())
		}
	}
}

func ExampleNewFake() {
	bus := client.NewFake()
	defer bus.Close()
	sub, _ := bus.Subscribe("decky.*.state")

	// The code under test publishes on the same bus.
	_ = bus.Publish(context.Background(), "decky.d1.state", map[string]string{"state": "running"}, "state")

	ev, _ := sub.Next(context.Background())
	fmt.Println(ev.Topic, ev.Type, string(ev.Payload))
	// Output: decky.d1.state state {"state":"running"}
}

func ExampleFake_Conn() {
	bus := client.NewFake()
	a, b := bus.Conn(), bus.Conn()
	sa, _ := a.Subscribe(">")
	sb, _ := b.Subscribe(">")
	_ = a.Publish(context.Background(), "system.log", nil, "log")

	ev := <-sb.C()
	fmt.Println("b received", ev.Topic)
	select {
	case <-sa.C():
		fmt.Println("a received its own event")
	default:
		fmt.Println("a did not receive its own event")
	}
	// Output:
	// b received system.log
	// a did not receive its own event
}

func ExampleMatch() {
	fmt.Println(client.Match("topology.>", "topology.t1.status"))
	fmt.Println(client.Match("topology.>", "topology"))
	fmt.Println(client.Match("decky.*.state", "decky.d1.state"))
	// Output:
	// true
	// false
	// true
}
