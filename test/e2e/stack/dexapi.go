package stack

import (
	"context"
	"fmt"

	dexapi "github.com/dexidp/dex/api/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// RevokeRefresh revokes the refresh tokens of the user whose ID tokens
// carry subject, for the stack's client, through Dex's admin API, as an
// administrator ending a session would. Dex's API names users by that
// subject (an encoding of user and connector ID). The API listens on
// loopback only, in plain gRPC.
func (s *Stack) RevokeRefresh(ctx context.Context, subject string) error {
	conn, err := grpc.NewClient(s.DexGRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dex api %s: %w", s.DexGRPCAddr, err)
	}
	defer conn.Close()
	resp, err := dexapi.NewDexClient(conn).RevokeRefresh(ctx, &dexapi.RevokeRefreshReq{UserId: subject, ClientId: s.ClientID})
	if err != nil {
		return fmt.Errorf("revoke the refresh tokens of %s: %w", subject, err)
	}
	if resp.NotFound {
		return fmt.Errorf("dex has no refresh token of %s for client %s", subject, s.ClientID)
	}
	return nil
}
