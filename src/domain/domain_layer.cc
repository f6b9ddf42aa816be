// layer domain
