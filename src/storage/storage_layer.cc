// layer storage
