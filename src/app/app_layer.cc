// layer app
