// layer crypto
