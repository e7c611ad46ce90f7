package materialize

import "testing"

func TestBitwise_Match_Numbers(t *testing.T) {
	// 54 = 0b110110
	qtRunMatch(t, []qtCase{
		{`{"a": {"$bitsAllSet": [1, 2]}}`, `{"a": 54}`, true},
		{`{"a": {"$bitsAllSet": [0, 1]}}`, `{"a": 54}`, false},
		{`{"a": {"$bitsAllSet": 6}}`, `{"a": 54}`, true},
		{`{"a": {"$bitsAllSet": 7}}`, `{"a": 54}`, false},
		{`{"a": {"$bitsAllSet": []}}`, `{"a": 54}`, true},
		{`{"a": {"$bitsAnySet": [0, 1]}}`, `{"a": 54}`, true},
		{`{"a": {"$bitsAnySet": [0, 3]}}`, `{"a": 54}`, false},
		{`{"a": {"$bitsAnySet": []}}`, `{"a": 54}`, false},
		{`{"a": {"$bitsAllClear": [0, 3]}}`, `{"a": 54}`, true},
		{`{"a": {"$bitsAllClear": [0, 1]}}`, `{"a": 54}`, false},
		{`{"a": {"$bitsAnyClear": [0, 1]}}`, `{"a": 54}`, true},
		{`{"a": {"$bitsAnyClear": [1, 2]}}`, `{"a": 54}`, false},
		{`{"a": {"$bitsAllSet": 6}}`, `{"a": 54.0}`, true},
		{`{"a": {"$bitsAllSet": 6}}`, `{"a": {"$numberLong": "54"}}`, true},
		{`{"a": {"$bitsAllSet": 6}}`, `{"a": {"$numberDecimal": "54"}}`, true},
		{`{"a": {"$bitsAllSet": 6}}`, `{"a": {"$numberDecimal": "54.5"}}`, false},
		{`{"a": {"$bitsAllSet": 6}}`, `{"a": 54.5}`, false},
		{`{"a": {"$bitsAnyClear": 6}}`, `{"a": 54.5}`, false},
		{`{"a": {"$bitsAllClear": 6}}`, `{"a": {"$numberDouble": "NaN"}}`, false},
		{`{"a": {"$bitsAllClear": 6}}`, `{"a": 1e30}`, false},
		{`{"a": {"$bitsAllClear": 6}}`, `{"a": "54"}`, false},
		{`{"a": {"$bitsAllClear": 6}}`, `{}`, false},
		// Negative numbers are two's complement and sign-extended past bit 63.
		{`{"a": {"$bitsAllSet": [0, 63, 100]}}`, `{"a": -1}`, true},
		{`{"a": {"$bitsAllSet": [200]}}`, `{"a": -2}`, true},
		{`{"a": {"$bitsAllClear": [200]}}`, `{"a": 5}`, true},
		{`{"a": {"$bitsAnySet": [1]}}`, `{"a": -2}`, true},
		{`{"a": {"$bitsAllSet": [1, 2]}}`, `{"a": [1, 6]}`, true},
	})
}

func TestBitwise_Match_BinData(t *testing.T) {
	// AQI= is bytes {0x01, 0x02}: bits 0 and 9 set.
	qtRunMatch(t, []qtCase{
		{`{"a": {"$bitsAllSet": [0, 9]}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, true},
		{`{"a": {"$bitsAllSet": [0, 8]}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, false},
		// Bits past the data are zero (no sign extension for BinData).
		{`{"a": {"$bitsAllClear": [100]}}`, `{"a": {"$binary": {"base64": "/w==", "subType": "00"}}}`, true},
		{`{"a": {"$bitsAnySet": [100]}}`, `{"a": {"$binary": {"base64": "/w==", "subType": "00"}}}`, false},
		{`{"a": {"$bitsAnyClear": [1, 9]}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, true},
		// A BinData mask against numbers and BinData values.
		{`{"a": {"$bitsAllSet": {"$binary": {"base64": "Bg==", "subType": "00"}}}}`, `{"a": 54}`, true},
		{`{"a": {"$bitsAllSet": {"$binary": {"base64": "Bw==", "subType": "00"}}}}`, `{"a": 54}`, false},
		{`{"a": {"$bitsAnySet": {"$binary": {"base64": "AAI=", "subType": "00"}}}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, true},
		{`{"a": {"$bitsAllSet": 512}}`, `{"a": {"$binary": {"base64": "AQI=", "subType": "00"}}}`, true},
	})
}

func TestBitwise_Compile_Errors(t *testing.T) {
	qtRunErr(t, []qtErrCase{
		{`{"a": {"$bitsAllSet": "x"}}`, 2, `a takes an Array, a number, or a BinData but received: $bitsAllSet: "x"`},
		{`{"a": {"$bitsAnySet": null}}`, 2, `a takes an Array, a number, or a BinData but received: $bitsAnySet: null`},
		{`{"a": {"$bitsAllSet": -1}}`, 9, "Expected a non-negative number in: $bitsAllSet: -1"},
		{`{"a": {"$bitsAllSet": 1.5}}`, 9, "Expected an integer: $bitsAllSet: 1.5"},
		{`{"a": {"$bitsAllClear": [-1]}}`, 2, "Failed to parse bit position. Expected a non-negative number in: 0: -1"},
		{`{"a": {"$bitsAllClear": [1, "x"]}}`, 2, `Failed to parse bit position. Expected a number in: 1: "x"`},
		{`{"a": {"$bitsAnyClear": [1.5]}}`, 2, "Failed to parse bit position. Expected an integer: 0: 1.5"},
		{`{"a": {"$bitsAnyClear": [3000000000]}}`, 2, "Failed to parse bit position. Cannot represent 0: 3000000000 in an int"},
	})
}
