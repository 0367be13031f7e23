package site

import "testing"

// Fixed tokens for tenant demo (testSecret), expiring in 2100: v2 link and partner tokens, a
// v2 token of tenant other, and a v1 token. testdata/fuzz/FuzzToken holds more spellings.
const (
	fuzzV2Link    = "ApUFnliRNFvD1ba0cvZLVY_kV23fysvzwADJiw6uX-jkMBvbyYsZ--v1VSAzqy4PZZVhGYk.tcs3a34ub-jg7LjIbxG81g"
	fuzzV2Partner = "ApUFnliaw2vfSJX-JsIjyyCTuFh6m5ge-F08PRAIO9-oyydFYJk_HSxOlo3PMhMC7-IrQw.C1dM8X0b_Y7W3A0srWoIbA"
	fuzzV2Other   = "AmO-QdN1evXjV6VPIE1NPhxfq-34hBRYenx0mQQzGPAn.L4hZC0Hzhr-lQBmOl3UQsw"
	fuzzV1        = "MR9kZW1vH2FjbWUfdR9jHx8wHw.SMRL8UOnMOawbNlBGh7c_A"
)

// FuzzToken checks that token decoding never panics and that only a token minted with the
// tenant's key verifies, in its one spelling: nothing else the fuzzer makes attributes.
func FuzzToken(f *testing.F) {
	sites := testSites(f)
	// Only fixed tokens: each fuzzing worker runs this function, and a token minted here
	// would differ between them (random nonce).
	minted := map[string]bool{fuzzV2Link: true, fuzzV2Partner: true, fuzzV1: true}
	for tok := range minted {
		f.Add(tok)
		f.Add(tok[:len(tok)-2])
	}
	f.Add(tamper(f, fuzzV2Link))
	f.Add(fuzzV2Other)
	f.Add("")
	f.Add(".")
	f.Add("MQ.AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("Ag.AAAAAAAAAAAAAAAAAAAAAA")
	st := sites.Site("demo")
	f.Fuzz(func(t *testing.T, tok string) {
		c, a, _ := st.VerifyToken(tok, testNow, nil)
		if a == AttrToken && (!minted[tok] || c.Partner != "acme" || c.Tenant != "demo") {
			t.Fatalf("token %q verified: %+v", tok, c)
		}
		lc, la, _ := sites.verifyLink(tok, testNow, nil)
		if la == AttrToken && !minted[tok] && tok != fuzzV2Other {
			t.Fatalf("link %q verified: %+v", tok, lc)
		}
	})
}
